<?php
// TechEmpower updates test for the php-fpm peer: N random World rows,
// each read with its own SELECT and given a new randomNumber, then all
// written back with one UPDATE ... CASE by id (a real server-side
// prepare for this row count), as Django's bulk_update and every other
// target do. An id drawn twice keeps its first new number.
require __DIR__ . '/db_conn.php';
$n = bench_count('queries');
$db = bench_db();
$sel = $db->prepare('SELECT id, randomNumber FROM world WHERE id = ?');
$out = [];
$case = [];
$ids = [];
for ($i = 0; $i < $n; $i++) {
    $sel->execute([mt_rand(1, 10000)]);
    $row = $sel->fetch(PDO::FETCH_ASSOC);
    $w = ['id' => (int)$row['id'], 'randomNumber' => mt_rand(1, 10000)];
    $case[] = $w['id'];
    $case[] = $w['randomNumber'];
    $ids[] = $w['id'];
    $out[] = $w;
}
$upd = $db->prepare('UPDATE world SET randomNumber = CASE' .
    str_repeat(' WHEN id = ? THEN ?', $n) .
    ' ELSE randomNumber END WHERE id IN (?' . str_repeat(',?', $n - 1) . ')');
$upd->execute(array_merge($case, $ids));
header('Content-Type: application/json');
echo json_encode($out);
