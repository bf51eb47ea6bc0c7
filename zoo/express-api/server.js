'use strict';
// authprobe zoo: an Express API built the way Express tutorials build it.
// JWT (jsonwebtoken) for the API, express-session for a browser flow, per-user API keys.
// The default variant keeps the tutorial mistakes (see truth.toml / README.md);
// --hardened is what a careful team ships. Usage:
//   node server.js --port PORT [--hardened] [--exit-with-stdin] [--access-log FILE]
const crypto = require('node:crypto');
const fs = require('node:fs');
const { parseArgs } = require('node:util');
const express = require('express');
const session = require('express-session');
const jwt = require('jsonwebtoken');
const bcrypt = require('bcryptjs');
const helmet = require('helmet');
const { rateLimit, ipKeyGenerator } = require('express-rate-limit');

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    hardened: { type: 'boolean', default: false },
    'exit-with-stdin': { type: 'boolean', default: false },
    'access-log': { type: 'string' },
  },
});
const HARDENED = opts.hardened;

// ---------------------------------------------------------------- configuration
// Flawed: the values every tutorial copies. Hardened: fresh random keys on every start.
const JWT_SECRET = HARDENED ? crypto.randomBytes(32).toString('hex') : 'secret';
const SESSION_SECRET = HARDENED ? crypto.randomBytes(32).toString('hex') : 'keyboard cat';
const JWT_AUDIENCE = 'express-api';
const JWT_ISSUER = 'http://127.0.0.1/express-api';
// Flawed: jwt.sign(payload, secret) with no options -> no exp, no aud, no iss.
const SIGN_OPTIONS = HARDENED
  ? { algorithm: 'HS256', expiresIn: '15m', audience: JWT_AUDIENCE, issuer: JWT_ISSUER }
  : {};
// Flawed: jwt.verify(token, secret). jsonwebtoken 9 already refuses alg "none" and
// restricts an HMAC secret to HS256/384/512; hardened pins the algorithm and checks aud/iss.
const VERIFY_OPTIONS = HARDENED
  ? { algorithms: ['HS256'], audience: JWT_AUDIENCE, issuer: JWT_ISSUER }
  : {};
const BCRYPT_COST = 8; // tutorials use 10; 8 keeps a scanner's login bursts quick

// ---------------------------------------------------------------- data (in memory, fresh per start)
// Flawed: ids from a counter, like `items.length + 1` in the tutorials. Hardened: random UUIDs.
let counter = 0;
const newId = () => (HARDENED ? crypto.randomUUID() : ++counter);
const users = [];
const notes = [];
const reports = [];
for (const [username, password] of [['alice', 'alice-pass-1'], ['bob', 'bob-pass-2']]) {
  users.push({
    id: newId(),
    username,
    email: `${username}@example.com`,
    hash: bcrypt.hashSync(password, BCRYPT_COST),
    apiKey: crypto.randomBytes(20).toString('hex'), // 40 hex chars, 160 random bits
  });
}
for (const user of users) {
  for (const title of ['shopping list', 'meeting notes', 'ideas']) {
    notes.push({ id: newId(), owner: user.id, title: `${user.username}'s ${title}`, body: `private to ${user.username}` });
  }
}
for (const user of users) {
  for (const month of ['2024-01', '2024-02']) {
    reports.push({ id: newId(), owner: user.id, month, total: user.username.length * 100 });
  }
}
const DUMMY_HASH = bcrypt.hashSync('not-a-password', BCRYPT_COST);
const publicUser = (u) => ({ id: u.id, username: u.username, email: u.email });

// ---------------------------------------------------------------- app
const app = express();
// Flawed: Express's own default when NODE_ENV is unset (the error handler prints stack
// traces). Pinned so an exported NODE_ENV cannot change the variant.
app.set('env', HARDENED ? 'production' : 'development');

let accessLog = null;
if (opts['access-log']) accessLog = fs.openSync(opts['access-log'], 'a');
app.use((req, res, next) => {
  if (accessLog !== null) fs.writeSync(accessLog, `${req.method} ${req.originalUrl.split('?')[0]}\n`);
  next();
});

if (HARDENED) {
  // Security headers (CSP, nosniff, X-Frame-Options, Referrer-Policy, ...) and no X-Powered-By.
  app.use(helmet());
  // Stand-in for the TLS-terminating reverse proxy a real deployment sits behind: it always
  // sets X-Forwarded-Proto: https. Without it express-session refuses to send a Secure
  // cookie over plain HTTP at all. Only express-session reads the header (proxy: true);
  // Express's 'trust proxy' stays off, so req.ip is the socket address and a client's
  // X-Forwarded-For cannot dodge the rate limit.
  app.use((req, res, next) => {
    req.headers['x-forwarded-proto'] = 'https';
    next();
  });
}
app.use(express.json());
app.use(express.urlencoded({ extended: false }));

// Flawed: the express-session README's options minus `cookie: {secure: true}` ("it does not
// work on localhost"): the cookie has HttpOnly but neither Secure nor SameSite, and every
// visitor gets a session before logging in (saveUninitialized: true).
app.use(session(HARDENED
  ? {
      secret: SESSION_SECRET,
      resave: false,
      saveUninitialized: false,
      proxy: true,
      cookie: { secure: true, httpOnly: true, sameSite: 'lax', maxAge: 60 * 60 * 1000 },
    }
  : { secret: SESSION_SECRET, resave: false, saveUninitialized: true }));

// ---------------------------------------------------------------- credentials
// Flawed: the tutorial's two early returns tell "no such user" from "wrong password" (and the
// unknown user skips bcrypt, so it is faster too). Hardened: one answer, one bcrypt either way.
async function checkCredentials(body) {
  const { username, password } = body || {};
  if (typeof username !== 'string' || typeof password !== 'string') {
    return { status: 400, error: 'username and password are required' };
  }
  const user = users.find((u) => u.username === username);
  if (HARDENED) {
    const ok = await bcrypt.compare(password, user ? user.hash : DUMMY_HASH);
    return user && ok ? { user } : { status: 401, error: 'invalid credentials' };
  }
  if (!user) return { status: 401, error: 'user not found' };
  if (!(await bcrypt.compare(password, user.hash))) return { status: 401, error: 'wrong password' };
  return { user };
}

// Hardened: 5 failed logins per minute per (client address, username), then 429. Only
// failures count (skipSuccessfulRequests), so the real user's next correct login is not
// spent by someone else's guesses on another account. One limiter serves both login
// routes, so alternating them does not double the guesses. Flawed: no limiter at all.
const loginLimiter = HARDENED
  ? rateLimit({
      windowMs: 60 * 1000,
      limit: 5,
      skipSuccessfulRequests: true,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: (req) => `${ipKeyGenerator(req.ip)}|${String((req.body && req.body.username) || '').toLowerCase()}`,
      message: { error: 'too many failed login attempts, try again later' },
    })
  : (req, res, next) => next();

function unauthorized(res, scheme) {
  // Hardened: RFC 9110 wants a challenge on every 401; the tutorials send none.
  if (HARDENED) res.set('WWW-Authenticate', `${scheme} realm="express-api"`);
  return res.status(401).json({ error: 'unauthorized' });
}

// The tutorials' `authenticateToken` middleware, plus the X-API-Key lookup.
function authenticate({ bearer = false, apiKey = false }) {
  return (req, res, next) => {
    let user;
    const key = req.get('x-api-key');
    const match = /^Bearer (.+)$/.exec(req.get('authorization') || '');
    if (apiKey && key) {
      user = users.find((u) => u.apiKey === key);
    } else if (bearer && match) {
      try {
        const payload = jwt.verify(match[1], JWT_SECRET, VERIFY_OPTIONS);
        user = users.find((u) => u.id === payload.id);
      } catch (err) {
        user = undefined; // bad signature, expired, wrong aud/iss, malformed
      }
    }
    if (!user) return unauthorized(res, bearer ? 'Bearer' : 'ApiKey');
    req.user = user;
    next();
  };
}

// ---------------------------------------------------------------- JWT API
app.post('/api/auth/login', loginLimiter, async (req, res) => {
  const result = await checkCredentials(req.body);
  if (!result.user) return res.status(result.status).json({ error: result.error });
  const token = jwt.sign({ id: result.user.id, username: result.user.username }, JWT_SECRET, SIGN_OPTIONS);
  res.json({ token, user: { id: result.user.id, username: result.user.username } });
});

app.get('/api/users/me', authenticate({ bearer: true, apiKey: true }), (req, res) => {
  res.json(publicUser(req.user));
});

app.get('/api/users/me/apikey', authenticate({ bearer: true }), (req, res) => {
  res.json({ api_key: req.user.apiKey, header: 'X-API-Key' });
});

app.get('/api/v1/reports', authenticate({ apiKey: true }), (req, res) => {
  res.json(reports.filter((r) => r.owner === req.user.id));
});

// Owner-scoped in both variants: another user's note is a 404, like a missing one.
app.get('/api/notes', authenticate({ bearer: true }), (req, res) => {
  res.json(notes.filter((n) => n.owner === req.user.id));
});

app.get('/api/notes/:id', authenticate({ bearer: true }), (req, res) => {
  const note = notes.find((n) => String(n.id) === req.params.id && n.owner === req.user.id);
  if (!note) return res.status(404).json({ error: 'not found' });
  res.json(note);
});

// ---------------------------------------------------------------- browser session flow
// Hardened: cross-site POSTs to the cookie routes are refused (login CSRF included): browsers
// send Origin on every cross-origin POST. Flawed: no CSRF defence at all, as in the tutorials.
function sameOrigin(req, res, next) {
  const origin = req.get('origin');
  const host = req.get('host');
  const fetchSite = req.get('sec-fetch-site');
  const crossOrigin = origin && origin !== `http://${host}` && origin !== `https://${host}`;
  if (HARDENED && (crossOrigin || (fetchSite && !['same-origin', 'none'].includes(fetchSite)))) {
    return res.status(403).json({ error: 'cross-origin request refused' });
  }
  next();
}

app.get('/session/login', (req, res) => {
  res.type('html').send(`<!doctype html>
<html><head><title>Sign in</title></head><body>
<form method="post" action="/session/login">
  <label>Username <input name="username" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button type="submit">Sign in</button>
</form></body></html>
`);
});

app.post('/session/login', sameOrigin, loginLimiter, async (req, res, next) => {
  const result = await checkCredentials(req.body);
  if (!result.user) return res.status(result.status).json({ error: result.error });
  const done = () => (req.is('urlencoded') ? res.redirect(303, '/session/me') : res.json({ user: publicUser(result.user) }));
  if (!HARDENED) {
    // Flawed: the session the visitor already had (saveUninitialized) just gains a user:
    // whoever planted or read that id before login now holds a logged-in session.
    req.session.userId = result.user.id;
    return done();
  }
  // Hardened: the express-session README's login example: new id, then save, then answer.
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.userId = result.user.id;
    req.session.save((saveErr) => (saveErr ? next(saveErr) : done()));
  });
});

app.get('/session/me', (req, res) => {
  const user = users.find((u) => u.id === req.session.userId);
  if (!user) return unauthorized(res, 'Cookie');
  res.json(publicUser(user));
});

// Both variants destroy the server-side session, so the old cookie is dead after logout.
app.post('/session/logout', sameOrigin, (req, res, next) => {
  req.session.destroy((err) => {
    if (err) return next(err);
    res.clearCookie('connect.sid');
    res.json({ ok: true });
  });
});

if (HARDENED) {
  // A careful team's error handler: a status and a generic message, never a stack.
  app.use((err, req, res, next) => {
    const status = err.status || err.statusCode || 500;
    res.status(status).json({ error: status < 500 ? 'bad request' : 'internal error' });
  });
}
// Flawed: no error handler, so Express's default one answers malformed JSON with an HTML
// page holding the stack trace and the server's file paths (env 'development').

// ---------------------------------------------------------------- start
const server = app.listen(Number(opts.port), '127.0.0.1', () => {
  process.stdout.write(`ready http://127.0.0.1:${server.address().port}\n`);
});
server.on('error', (err) => {
  process.stderr.write(`express-api: ${err.message}\n`);
  process.exit(1);
});
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (opts['exit-with-stdin']) {
  // The test harness's lifeline: when it goes away, stdin reaches EOF and so do we.
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
