@extends('layout')

@section('title', 'Reset password')

@section('content')
    <h1>Reset password</h1>
    <form method="POST" action="{{ route('password.update') }}">
        @csrf
        <input type="hidden" name="token" value="{{ $token }}">
        <label for="email">Email</label>
        <input id="email" type="email" name="email" value="{{ old('email', $email) }}" required>
        @error('email')
            <p class="error">{{ $message }}</p>
        @enderror
        <label for="password">New password</label>
        <input id="password" type="password" name="password" required autocomplete="new-password">
        <label for="password_confirmation">Confirm password</label>
        <input id="password_confirmation" type="password" name="password_confirmation" required>
        <button type="submit">Reset password</button>
    </form>
@endsection
