<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Relations\HasMany;
use Illuminate\Foundation\Auth\User as Authenticatable;
use Illuminate\Notifications\Notifiable;

/** The skeleton's User (name = the username), plus the token guard's api_token column. */
class User extends Authenticatable
{
    use Notifiable;

    protected $fillable = ['name', 'email', 'password'];

    protected $hidden = ['password', 'remember_token', 'api_token'];

    protected $casts = ['email_verified_at' => 'datetime'];

    public function notes(): HasMany
    {
        return $this->hasMany(Note::class);
    }
}
