<?php

namespace App\Http\Controllers;

use Illuminate\Http\Request;

/** The dashboard: the signed-in user's notes and the "Sign out" button. */
class HomeController extends Controller
{
    public function index(Request $request)
    {
        return view('home', ['user' => $request->user(), 'notes' => $request->user()->notes]);
    }
}
