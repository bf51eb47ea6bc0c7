<?php

namespace App\Console;

use Illuminate\Foundation\Console\Kernel as ConsoleKernel;

/** The skeleton's console kernel: `php artisan migrate --seed` is all serve runs. */
class Kernel extends ConsoleKernel
{
    protected $commands = [];
}
