<?php

namespace App\Exceptions;

use Illuminate\Auth\AuthenticationException;
use Illuminate\Foundation\Exceptions\Handler as ExceptionHandler;

/** The skeleton's handler; the hardened variant names the API's scheme in its 401s. */
class Handler extends ExceptionHandler
{
    protected $dontFlash = ['current_password', 'password', 'password_confirmation'];

    protected function unauthenticated($request, AuthenticationException $exception)
    {
        $response = parent::unauthenticated($request, $exception);
        if (config('app.hardened') && $response->getStatusCode() === 401) {
            $response->headers->set('WWW-Authenticate', 'Bearer realm="api"');
        }

        return $response;
    }
}
