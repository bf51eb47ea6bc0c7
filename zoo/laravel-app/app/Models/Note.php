<?php

namespace App\Models;

use Illuminate\Database\Eloquent\Model;

/**
 * A user's note. Routed by its auto-increment id (the default), or in the hardened variant by
 * its random uuid, with the id kept internal.
 */
class Note extends Model
{
    protected $fillable = ['title', 'body'];

    public function getRouteKeyName()
    {
        return config('app.hardened') ? 'uuid' : 'id';
    }

    public function getHidden()
    {
        return config('app.hardened') ? ['id', 'user_id'] : [];
    }
}
