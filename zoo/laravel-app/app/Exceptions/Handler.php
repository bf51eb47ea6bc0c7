<?php

namespace App\Exceptions;

use Illuminate\Auth\AuthenticationException;
use Illuminate\Foundation\Exceptions\Handler as ExceptionHandler;
use Symfony\Component\HttpKernel\Exception\NotFoundHttpException;

/**
 * The skeleton's handler. The hardened variant names the API's scheme in its 401s and answers
 * an API 404 with "Not Found." instead of Laravel's "No query results for model [App\...]".
 */
class Handler extends ExceptionHandler
{
    protected $dontFlash = ['current_password', 'password', 'password_confirmation'];

    public function register()
    {
        $this->renderable(function (NotFoundHttpException $e, $request) {
            if (config('app.hardened') && $request->is('api/*')) {
                return response()->json(['message' => 'Not Found.'], 404);
            }
        });
    }

    protected function unauthenticated($request, AuthenticationException $exception)
    {
        $response = parent::unauthenticated($request, $exception);
        if (config('app.hardened') && $response->getStatusCode() === 401) {
            $response->headers->set('WWW-Authenticate', 'Bearer realm="api"');
        }

        return $response;
    }
}
