@extends('layout')

@section('title', 'Log in')

@section('content')
    <h1>Log in</h1>
    <form method="POST" action="{{ url('/login') }}">
        @csrf
        <label for="email">Email or username</label>
        <input id="email" type="text" name="email" value="{{ old('email') }}" required autofocus autocomplete="username">
        @error('email')
            <p class="error">{{ $message }}</p>
        @enderror

        <label for="password">Password</label>
        <input id="password" type="password" name="password" required autocomplete="current-password">

        <button type="submit">Log in</button>
    </form>
    <p><a href="{{ route('password.request') }}">Forgot your password?</a></p>
@endsection
