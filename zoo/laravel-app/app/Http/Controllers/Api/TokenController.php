<?php

namespace App\Http\Controllers\Api;

use App\Http\Controllers\Auth\Credentials;
use App\Http\Controllers\Controller;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\DB;
use Illuminate\Support\Str;

/**
 * POST /api/login {email, password} -> {"api_token": ...}: how scripts get the key the `api`
 * guard reads. The flawed variant hands out the user's api_token column, set once when the
 * account was created (the token guard's docs: `'api_token' => Str::random(80)` at
 * registration) — the same key on every login, never expiring, and (the token driver's
 * default) also read from `?api_token=`. The hardened variant issues a fresh random token per
 * login, stores only its SHA-256, expires it after an hour and deletes it at POST /api/logout.
 */
class TokenController extends Controller
{
    public function store(Request $request)
    {
        $request->validate([
            'email' => ['required', 'string'],
            'password' => ['required', 'string'],
        ]);

        $user = Credentials::check($request);
        if ($user === null) {
            return response()->json(['message' => __('auth.failed')], 401);
        }

        if (! config('app.hardened')) {
            return response()->json(['api_token' => $user->api_token, 'token_type' => 'Bearer']);
        }

        $token = Str::random(64);
        DB::table('api_tokens')->insert([
            'user_id' => $user->id,
            'token' => hash('sha256', $token),
            'expires_at' => now()->addHour(),
            'created_at' => now(),
            'updated_at' => now(),
        ]);

        return response()->json(['api_token' => $token, 'token_type' => 'Bearer', 'expires_in' => 3600]);
    }

    public function destroy(Request $request)
    {
        DB::table('api_tokens')->where('token', hash('sha256', (string) $request->bearerToken()))->delete();

        return response()->noContent();
    }
}
