<?php

namespace App\Http\Controllers\Auth;

use Illuminate\Http\Exceptions\ThrottleRequestsException;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\Facades\RateLimiter;
use Illuminate\Support\Str;

/**
 * Checking an e-mail (or username) and password, shared by the web login and the API's token
 * login. The `email` field takes either: an address is looked up by `email`, anything else by
 * `name`. Auth::once checks without touching the session; the web login then calls Auth::login.
 *
 * The hardened variant throttles failures as Breeze's LoginRequest does: five failed attempts
 * per (login, address) a minute, cleared by a success; the sixth answers 429 with Retry-After.
 * The flawed variant, like the docs' "Manually Authenticating Users" example, has no throttle.
 */
class Credentials
{
    /** The user the credentials name, or null; throws a 429 when the hardened limit is met. */
    public static function check(Request $request): ?\App\Models\User
    {
        $login = (string) $request->input('email');
        $password = (string) $request->input('password');
        $key = Str::lower($login).'|'.$request->ip();
        $throttled = config('app.hardened');

        if ($throttled && RateLimiter::tooManyAttempts($key, 5)) {
            $seconds = RateLimiter::availableIn($key);
            throw new ThrottleRequestsException(
                'Too many login attempts. Please try again in '.$seconds.' seconds.',
                null,
                ['Retry-After' => $seconds]
            );
        }

        $field = str_contains($login, '@') ? 'email' : 'name';
        if ($login !== '' && $password !== '' && Auth::once([$field => $login, 'password' => $password])) {
            if ($throttled) {
                RateLimiter::clear($key);
            }

            return Auth::user();
        }
        if ($throttled) {
            RateLimiter::hit($key, 60);
        }

        return null;
    }
}
