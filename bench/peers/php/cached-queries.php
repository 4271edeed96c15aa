<?php
// TechEmpower cached-queries test for the php-fpm peer: N random World
// rows from APCu, php-fpm's shared-memory cache (one per pool, so every
// worker sees it), filled from the database on first use.
require __DIR__ . '/db_conn.php';
$n = bench_count('count');
if (!apcu_fetch('world:loaded')) {
    $all = [];
    foreach (bench_db()->query('SELECT id, randomNumber FROM world') as $r) {
        $all['world:' . $r['id']] = (int)$r['randomNumber'];
    }
    apcu_store($all);
    apcu_store('world:loaded', true);
}
$out = [];
for ($i = 0; $i < $n; $i++) {
    $id = mt_rand(1, 10000);
    $out[] = ['id' => $id, 'randomNumber' => apcu_fetch('world:' . $id)];
}
header('Content-Type: application/json');
echo json_encode($out);
