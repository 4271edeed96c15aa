<?php
// TechEmpower plaintext test for the php-fpm peer (bench/run).
header('Content-Type: text/plain');
echo 'Hello, World!';
