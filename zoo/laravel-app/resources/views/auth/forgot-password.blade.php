@extends('layout')

@section('title', 'Forgot your password?')

@section('content')
    <h1>Forgot your password?</h1>
    <p>Tell us your email address and we will email you a password reset link.</p>
    <form method="POST" action="{{ route('password.email') }}">
        @csrf
        <label for="email">Email</label>
        <input id="email" type="email" name="email" value="{{ old('email') }}" required autofocus>
        @error('email')
            <p class="error">{{ $message }}</p>
        @enderror
        <button type="submit">Email password reset link</button>
    </form>
@endsection
