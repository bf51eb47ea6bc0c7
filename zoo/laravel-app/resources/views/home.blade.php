@extends('layout')

@section('title', 'Dashboard')

@section('content')
    <h1>Dashboard</h1>
    <p>Signed in as {{ $user->name }} ({{ $user->email }}).</p>
    <h2>Your notes</h2>
    <ul>
        @foreach ($notes as $note)
            <li>{{ $note->title }}</li>
        @endforeach
    </ul>
    <form method="POST" action="{{ route('logout') }}">
        @csrf
        @method('DELETE')
        <button type="submit">Sign out</button>
    </form>
@endsection
