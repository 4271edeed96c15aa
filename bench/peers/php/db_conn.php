<?php
// The php-fpm peer's database connection (bench/run): PDO mysql on the
// suite's MariaDB, persistent (one per worker, as TechEmpower's PHP
// entries use), with real server-side prepared statements. bench/run
// passes the socket and credentials as fastcgi_params.
function bench_db()
{
    return new PDO(
        'mysql:unix_socket=' . $_SERVER['BENCH_DB_SOCKET'] .
        ';dbname=' . $_SERVER['BENCH_DB_NAME'] . ';charset=utf8mb4',
        $_SERVER['BENCH_DB_USER'], $_SERVER['BENCH_DB_PASSWORD'],
        [PDO::ATTR_PERSISTENT => true,
         PDO::ATTR_EMULATE_PREPARES => false,
         PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
}

// ?queries=N (or another name) clamped to 1..500; 1 when not a number.
function bench_count($name)
{
    $n = isset($_GET[$name]) ? (int)$_GET[$name] : 1;
    return $n < 1 ? 1 : ($n > 500 ? 500 : $n);
}
