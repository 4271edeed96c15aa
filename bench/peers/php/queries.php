<?php
// TechEmpower queries test for the php-fpm peer: N random World rows.
require __DIR__ . '/db_conn.php';
$n = bench_count('queries');
$st = bench_db()->prepare('SELECT id, randomNumber FROM world WHERE id = ?');
$out = [];
for ($i = 0; $i < $n; $i++) {
    $st->execute([mt_rand(1, 10000)]);
    $row = $st->fetch(PDO::FETCH_ASSOC);
    $out[] = ['id' => (int)$row['id'],
              'randomNumber' => (int)$row['randomNumber']];
}
header('Content-Type: application/json');
echo json_encode($out);
