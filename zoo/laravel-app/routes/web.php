<?php

use App\Http\Controllers\Auth\LoginController;
use App\Http\Controllers\Auth\PasswordResetController;
use App\Http\Controllers\HomeController;
use App\Providers\RouteServiceProvider;
use Illuminate\Support\Facades\Route;

/*
 * Web routes (session + CSRF). Guests asking for / or /home are sent to route('login') by the
 * `auth` middleware.
 */

Route::get('/', fn () => redirect(RouteServiceProvider::HOME))->middleware('auth');

Route::middleware('guest')->group(function () {
    Route::get('/login', [LoginController::class, 'create'])->name('login');
    Route::post('/login', [LoginController::class, 'store']);

    $reset = Route::post('/forgot-password', [PasswordResetController::class, 'store'])->name('password.email');
    if (config('app.hardened')) {
        $reset->middleware('throttle:password-reset');
    }
    Route::get('/forgot-password', [PasswordResetController::class, 'create'])->name('password.request');
    Route::get('/reset-password/{token}', [PasswordResetController::class, 'edit'])->name('password.reset');
    Route::post('/reset-password', [PasswordResetController::class, 'update'])->name('password.update');
});

Route::middleware('auth')->group(function () {
    Route::get('/home', [HomeController::class, 'index'])->name('home');
    Route::delete('/logout', [LoginController::class, 'destroy'])->name('logout');
});
