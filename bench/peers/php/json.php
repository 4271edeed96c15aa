<?php
// TechEmpower json test for the php-fpm peer (bench/run): a new array
// serialised by json_encode on every request.
header('Content-Type: application/json');
echo json_encode(['message' => 'Hello, World!']);
