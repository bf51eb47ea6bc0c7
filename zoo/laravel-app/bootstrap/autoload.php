<?php

/*
 * Debian ships Laravel as php-laravel-framework: no vendor/ and no Composer. Its classes load
 * through the autoloaders pkg-php-tools generates under /usr/share/php (on PHP's include_path);
 * Illuminate/autoload.php pulls in every Illuminate component and their dependencies
 * (Symfony, Carbon, Monolog, ...). The application's own namespaces (App\, Database\Seeders\)
 * follow PSR-4 here, as composer.json's "autoload" section would map them.
 */

require_once 'Illuminate/autoload.php';

spl_autoload_register(function (string $class): void {
    static $roots = [
        'App\\' => __DIR__.'/../app/',
        'Database\\Seeders\\' => __DIR__.'/../database/seeders/',
    ];
    foreach ($roots as $prefix => $dir) {
        if (strncmp($class, $prefix, strlen($prefix)) === 0) {
            $file = $dir.str_replace('\\', '/', substr($class, strlen($prefix))).'.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
