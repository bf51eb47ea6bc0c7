<?php

/*
 * The Laravel 8 skeleton's config/auth.php. Its `api` guard is the framework's `token` driver
 * with `hash => false`: the users table's api_token column, read from `?api_token=`, an
 * `api_token` body field or `Authorization: Bearer`. The hardened variant replaces it with a
 * request guard (AuthServiceProvider) over per-login, hashed, expiring tokens, Bearer only.
 */

return [
    'defaults' => [
        'guard' => 'web',
        'passwords' => 'users',
    ],

    'guards' => [
        'web' => [
            'driver' => 'session',
            'provider' => 'users',
        ],

        'api' => env('ZOO_HARDENED') ? [
            'driver' => 'personal-token',
        ] : [
            'driver' => 'token',
            'provider' => 'users',
            'hash' => false,
        ],
    ],

    'providers' => [
        'users' => [
            'driver' => 'eloquent',
            'model' => App\Models\User::class,
        ],
    ],

    'passwords' => [
        'users' => [
            'provider' => 'users',
            'table' => 'password_resets',
            'expire' => 60,
            'throttle' => 60,
        ],
    ],

    'password_timeout' => 10800,
];
