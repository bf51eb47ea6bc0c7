<?php

namespace App\Providers;

use App\Models\User;
use Illuminate\Foundation\Support\Providers\AuthServiceProvider as ServiceProvider;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Auth;
use Illuminate\Support\Facades\DB;

class AuthServiceProvider extends ServiceProvider
{
    protected $policies = [];

    /**
     * The hardened variant's API guard (docs: "Closure Request Guards"): a Bearer token only,
     * looked up by its SHA-256 in api_tokens, one row per login, expiring after an hour and
     * deleted at logout — what Sanctum's personal access tokens do, which Debian does not ship.
     */
    public function boot()
    {
        $this->registerPolicies();

        Auth::viaRequest('personal-token', function (Request $request) {
            $token = $request->bearerToken();
            if (! $token) {
                return null;
            }
            $row = DB::table('api_tokens')
                ->where('token', hash('sha256', $token))
                ->where('expires_at', '>', now())
                ->first();

            return $row ? User::find($row->user_id) : null;
        });
    }
}
