<?php

return [
    'reset' => 'Your password has been reset!',
    'sent' => 'We have emailed your password reset link!',
    'throttled' => 'Please wait before retrying.',
    'token' => 'This password reset token is invalid.',
    'user' => "We can't find a user with that email address.",
    // The hardened variant's one answer for every address.
    'sent_if_exists' => 'If an account uses that address, we have emailed it a password reset link.',
];
