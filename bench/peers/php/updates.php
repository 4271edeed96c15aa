<?php
// TechEmpower updates test for the php-fpm peer: N random World rows,
// each given a new randomNumber and written back with its own UPDATE.
require __DIR__ . '/db_conn.php';
$n = bench_count('queries');
$db = bench_db();
$sel = $db->prepare('SELECT id, randomNumber FROM world WHERE id = ?');
$upd = $db->prepare('UPDATE world SET randomNumber = ? WHERE id = ?');
$out = [];
for ($i = 0; $i < $n; $i++) {
    $sel->execute([mt_rand(1, 10000)]);
    $row = $sel->fetch(PDO::FETCH_ASSOC);
    $w = ['id' => (int)$row['id'], 'randomNumber' => mt_rand(1, 10000)];
    $upd->execute([$w['randomNumber'], $w['id']]);
    $out[] = $w;
}
header('Content-Type: application/json');
echo json_encode($out);
