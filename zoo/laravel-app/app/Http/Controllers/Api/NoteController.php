<?php

namespace App\Http\Controllers\Api;

use App\Http\Controllers\Controller;
use App\Models\Note;
use Illuminate\Http\Request;

/**
 * The API's notes. The flawed variant has two everyday mistakes: `show` trusts route model
 * binding and never asks whether the note is the caller's (no policy, no owner scope), and
 * `index` hands the client's `limit` to paginate() unchecked — `?limit=abc` throws a TypeError,
 * which APP_DEBUG=true renders with the exception, file paths and the stack trace.
 */
class NoteController extends Controller
{
    public function index(Request $request)
    {
        $limit = $request->query('limit', 15);
        if (config('app.hardened')) {
            $limit = min(max((int) $limit, 1), 100);
        }

        return $request->user()->notes()->orderBy('id')->paginate($limit);
    }

    public function show(Request $request, Note $note)
    {
        if (config('app.hardened')) {
            abort_unless($note->user_id === $request->user()->id, 404);
        }

        return $note;
    }
}
