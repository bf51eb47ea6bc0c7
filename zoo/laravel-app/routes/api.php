<?php

use App\Http\Controllers\Api\NoteController;
use App\Http\Controllers\Api\TokenController;
use Illuminate\Http\Request;
use Illuminate\Support\Facades\Route;

/* API routes, under /api, authenticated by the `api` guard (see config/auth.php). */

Route::post('/login', [TokenController::class, 'store']);

Route::middleware('auth:api')->group(function () {
    Route::get('/user', function (Request $request) {
        return $request->user();
    });
    Route::get('/notes', [NoteController::class, 'index']);
    Route::get('/notes/{note}', [NoteController::class, 'show']);
    if (config('app.hardened')) {
        Route::post('/logout', [TokenController::class, 'destroy']);
    }
});
