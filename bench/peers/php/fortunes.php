<?php
// TechEmpower fortunes test for the php-fpm peer: every Fortune plus one
// added at request time, sorted by message, escaped with
// htmlspecialchars in a plain PHP template.
require __DIR__ . '/db_conn.php';
$rows = bench_db()->query('SELECT id, message FROM fortune')
    ->fetchAll(PDO::FETCH_KEY_PAIR);
$rows[0] = 'Additional fortune added at request time.';
asort($rows, SORT_STRING);
header('Content-Type: text/html; charset=utf-8');
?>
<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr><?php foreach ($rows as $id => $msg): ?><tr><td><?= $id ?></td><td><?= htmlspecialchars($msg, ENT_QUOTES, 'UTF-8') ?></td></tr><?php endforeach ?></table></body></html>
