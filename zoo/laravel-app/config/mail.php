<?php

/* The `log` mailer, as in development: reset mails are written to storage/logs/laravel.log. */

return [
    'default' => 'log',
    'mailers' => [
        'log' => [
            'transport' => 'log',
            'channel' => null,
        ],
    ],
    'from' => [
        'address' => 'noreply@example.com',
        'name' => 'Notes',
    ],
    'markdown' => [
        'theme' => 'default',
        'paths' => [resource_path('views/vendor/mail')],
    ],
];
