<?php

namespace Database\Seeders;

use App\Models\User;
use Illuminate\Database\Seeder;
use Illuminate\Support\Facades\Hash;
use Illuminate\Support\Str;

/** Two plain accounts, each with a few notes; api_token as the token guard's docs set it. */
class DatabaseSeeder extends Seeder
{
    public function run()
    {
        $accounts = [
            ['alice', 'alice-pass-1', ['Groceries', 'Dentist on Friday', 'Book ideas']],
            ['bob', 'bob-pass-2', ['Car service', 'Birthday gifts']],
        ];
        foreach ($accounts as [$name, $password, $titles]) {
            $user = new User(['name' => $name, 'email' => $name.'@example.com', 'password' => Hash::make($password)]);
            $user->forceFill(['api_token' => Str::random(80), 'email_verified_at' => now()])->save();
            foreach ($titles as $title) {
                $note = $user->notes()->make(['title' => $title, 'body' => $name."'s note: ".Str::lower($title)]);
                $note->uuid = (string) Str::uuid();
                $note->save();
            }
        }
    }
}
