<?php

namespace App\Providers;

use Illuminate\Support\Facades\URL;
use Illuminate\Support\ServiceProvider;

/**
 * The hardened variant builds every absolute URL (the reset link in the mail above all) from
 * APP_URL, not from the request's Host header — the skeleton leaves TrustHosts commented out,
 * so by default a spoofed Host ends up in the reset link.
 */
class AppServiceProvider extends ServiceProvider
{
    public function boot()
    {
        if (config('app.hardened')) {
            URL::forceRootUrl(config('app.url'));
        }
    }
}
