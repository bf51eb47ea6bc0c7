'use strict';
// authprobe zoo: a Koa API set up the way Koa's and @koa/router's READMEs set it up, with
// opaque login keys presented in X-Auth-Token. The router is mounted with
// `app.use(router.routes())` only (no `router.allowedMethods()`, the usual omission), so a
// POST-only route answers 404 "Not Found" to GET and to OPTIONS, in both variants.
// The default variant keeps the hand-made mistakes (see truth.toml / README.md);
// --hardened is what a careful team ships. Usage:
//   node server.js --port PORT [--hardened] [--exit-with-stdin] [--access-log FILE]
const crypto = require('node:crypto');
const fs = require('node:fs');
const { parseArgs } = require('node:util');
const Koa = require('koa');
const Router = require('@koa/router');
const { bodyParser } = require('@koa/bodyparser');
const helmet = require('koa-helmet');
const bcrypt = require('bcryptjs');

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    hardened: { type: 'boolean', default: false },
    'exit-with-stdin': { type: 'boolean', default: false },
    'access-log': { type: 'string' },
  },
});
const HARDENED = opts.hardened;
const BCRYPT_COST = 8; // tutorials use 10; 8 keeps a scanner's login bursts quick
const KEY_LIFETIME_MS = 60 * 60 * 1000; // hardened: a key dies an hour after login
const FAILURES_ALLOWED = 5; // hardened: failed logins per minute per (address, username)
const FAILURE_WINDOW_MS = 60 * 1000;

// ---------------------------------------------------------------- data (in memory, fresh per start)
const users = [];
const posts = [];
for (const [id, username, password] of [[1, 'alice', 'alice-pass-1'], [2, 'bob', 'bob-pass-2']]) {
  users.push({ id, username, email: `${username}@example.com`, hash: bcrypt.hashSync(password, BCRYPT_COST) });
}
const seed = {
  alice: [['Spring garden plan', 'published'], ['Quarterly salary review notes', 'draft'], ['Moving to Lisbon?', 'draft']],
  bob: [['Why I switched to Koa', 'published'], ['Interview feedback for Carol', 'draft'], ['Unfinished: my startup idea', 'draft']],
};
const slugify = (title) => title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
for (const [author, entries] of Object.entries(seed)) {
  for (const [title, status] of entries) {
    posts.push({
      slug: slugify(title),
      title,
      body: `${title}: written by ${author}, ${status === 'draft' ? 'not meant for anyone else yet' : 'on the blog'}.`,
      status,
      author,
      created_at: new Date(Date.UTC(2024, 2, 1 + posts.length)).toISOString(),
    });
  }
}
const DUMMY_HASH = bcrypt.hashSync('not-a-password', BCRYPT_COST);
const publicUser = (u) => ({ id: u.id, username: u.username, email: u.email });

// Login keys: opaque random values (160 bits), looked up in this map. key -> {user, expires}.
const keys = new Map();

// ---------------------------------------------------------------- app
const app = new Koa();
const router = new Router();

let accessLog = null;
if (opts['access-log']) accessLog = fs.openSync(opts['access-log'], 'a');
app.use(async (ctx, next) => {
  if (accessLog !== null) fs.writeSync(accessLog, `${ctx.method} ${ctx.path}\n`);
  await next();
});

if (HARDENED) {
  // helmet's headers first, then an error handler below it that answers errors itself:
  // Koa's default ctx.onerror clears every header already set (helmet's included).
  app.use(helmet());
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const status = err.status || err.statusCode || 500;
      ctx.status = status;
      ctx.body = { error: status < 500 ? 'bad request' : 'internal error' };
    }
  });
}
app.use(bodyParser());

// ---------------------------------------------------------------- credentials
// Flawed: two early returns, "no such user" and "wrong password" (and the unknown user skips
// bcrypt). Hardened: one answer, one bcrypt comparison either way.
async function checkCredentials(body) {
  const { username, password } = body || {};
  if (typeof username !== 'string' || typeof password !== 'string') {
    return { status: 400, error: 'username and password are required' };
  }
  const user = users.find((u) => u.username === username);
  if (HARDENED) {
    const ok = await bcrypt.compare(password, user ? user.hash : DUMMY_HASH);
    return user && ok ? { user } : { status: 401, error: 'invalid username or password' };
  }
  if (!user) return { status: 401, error: 'user not found' };
  if (!(await bcrypt.compare(password, user.hash))) return { status: 401, error: 'invalid password' };
  return { user };
}

// Hardened: failed logins are counted per (client address, username); the sixth within a
// minute answers 429 with Retry-After. ctx.ip is the socket address (app.proxy stays false),
// so X-Forwarded-For cannot reset the count. Flawed: nothing counts.
const failures = new Map();
function throttled(ctx, username) {
  if (!HARDENED) return false;
  const key = `${ctx.ip}|${String(username || '').toLowerCase()}`;
  const now = Date.now();
  const recent = (failures.get(key) || []).filter((t) => now - t < FAILURE_WINDOW_MS);
  failures.set(key, recent);
  if (recent.length < FAILURES_ALLOWED) return false;
  ctx.status = 429;
  ctx.set('Retry-After', String(Math.ceil((recent[0] + FAILURE_WINDOW_MS - now) / 1000)));
  ctx.body = { error: 'too many failed login attempts, try again later' };
  return true;
}
function countFailure(ctx, username) {
  if (!HARDENED) return;
  const key = `${ctx.ip}|${String(username || '').toLowerCase()}`;
  failures.set(key, [...(failures.get(key) || []), Date.now()]);
}

// The hand-written middleware reading the key from X-Auth-Token.
async function requireKey(ctx, next) {
  const key = ctx.get('X-Auth-Token');
  const entry = key ? keys.get(key) : undefined;
  if (!entry || (entry.expires && entry.expires < Date.now())) {
    // Flawed: a bare JSON 401, no challenge. Hardened: RFC 9110's WWW-Authenticate.
    if (HARDENED) ctx.set('WWW-Authenticate', 'X-Auth-Token realm="koa-api"');
    ctx.status = 401;
    ctx.body = { error: 'authentication required' };
    return;
  }
  ctx.state.user = entry.user;
  ctx.state.key = key;
  await next();
}

// ---------------------------------------------------------------- routes
router.post('/api/auth/login', async (ctx) => {
  const { username } = ctx.request.body || {};
  if (throttled(ctx, username)) return;
  const result = await checkCredentials(ctx.request.body);
  if (!result.user) {
    countFailure(ctx, username);
    ctx.status = result.status;
    ctx.body = { error: result.error };
    return;
  }
  const key = crypto.randomBytes(20).toString('hex');
  keys.set(key, { user: result.user, expires: HARDENED ? Date.now() + KEY_LIFETIME_MS : null });
  ctx.body = { auth_token: key, user: publicUser(result.user) };
});

// Flawed: "the client throws the key away": the answer says logged out, the key lives on.
// Hardened: the key is deleted, so it is refused from now on.
router.post('/api/auth/logout', requireKey, (ctx) => {
  if (HARDENED) keys.delete(ctx.state.key);
  ctx.body = { ok: true };
});

router.get('/api/users/me', requireKey, (ctx) => {
  ctx.body = { user: publicUser(ctx.state.user) };
});

// The author's dashboard: the caller's own posts, drafts included.
router.get('/api/posts', requireKey, (ctx) => {
  ctx.body = { posts: posts.filter((p) => p.author === ctx.state.user.username) };
});

// Flawed: the detail route looks the slug up and forgets the author check the list has,
// so any logged-in user reads anyone's drafts by slug. Hardened: owner-scoped, 404 otherwise.
router.get('/api/posts/:slug', requireKey, (ctx) => {
  const post = posts.find(
    (p) => p.slug === ctx.params.slug && (!HARDENED || p.author === ctx.state.user.username),
  );
  if (!post) {
    ctx.status = 404;
    ctx.body = { error: 'post not found' };
    return;
  }
  ctx.body = { post };
});

app.use(router.routes());

// ---------------------------------------------------------------- start
app.silent = true; // Koa logs every 5xx to stderr otherwise; the contract wants quiet
const server = app.listen(Number(opts.port), '127.0.0.1', () => {
  process.stdout.write(`ready http://127.0.0.1:${server.address().port}\n`);
});
server.on('error', (err) => {
  process.stderr.write(`koa-api: ${err.message}\n`);
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
