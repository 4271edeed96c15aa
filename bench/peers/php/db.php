<?php
// TechEmpower db test for the php-fpm peer: one random World row.
require __DIR__ . '/db_conn.php';
$st = bench_db()->prepare('SELECT id, randomNumber FROM world WHERE id = ?');
$st->execute([mt_rand(1, 10000)]);
$row = $st->fetch(PDO::FETCH_ASSOC);
header('Content-Type: application/json');
echo json_encode(['id' => (int)$row['id'],
                  'randomNumber' => (int)$row['randomNumber']]);
