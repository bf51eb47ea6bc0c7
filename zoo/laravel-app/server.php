<?php

/*
 * Router for PHP's built-in server (`php -S 127.0.0.1:PORT -t public server.php`), as
 * Laravel's own server.php (`php artisan serve`) does it: existing files under public/ are
 * served as they are, everything else goes to public/index.php. With ZOO_ACCESS_LOG set, one
 * "METHOD PATH" line per request (path without query) is appended to that file first.
 */

$uri = urldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');

if ($log = getenv('ZOO_ACCESS_LOG')) {
    $path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/';
    file_put_contents($log, $_SERVER['REQUEST_METHOD'].' '.$path."\n", FILE_APPEND | LOCK_EX);
}

if ($uri !== '/' && is_file(__DIR__.'/public'.$uri)) {
    return false;
}

require_once __DIR__.'/public/index.php';
