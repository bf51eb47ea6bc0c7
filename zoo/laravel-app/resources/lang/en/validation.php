<?php

/* The skeleton's messages for the rules this app uses. */

return [
    'confirmed' => 'The :attribute confirmation does not match.',
    'email' => 'The :attribute must be a valid email address.',
    'min' => ['string' => 'The :attribute must be at least :min characters.'],
    'required' => 'The :attribute field is required.',
    'string' => 'The :attribute must be a string.',
    'attributes' => [],
];
