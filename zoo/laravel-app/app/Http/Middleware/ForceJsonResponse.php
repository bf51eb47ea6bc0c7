<?php

namespace App\Http\Middleware;

use Closure;
use Illuminate\Http\Request;

/**
 * The api group's "always answer JSON" middleware that most Laravel APIs add: without it a
 * client that does not send `Accept: application/json` is redirected to the login page (401s)
 * or back to the previous page (422s) like a browser.
 */
class ForceJsonResponse
{
    public function handle(Request $request, Closure $next)
    {
        $request->headers->set('Accept', 'application/json');

        return $next($request);
    }
}
