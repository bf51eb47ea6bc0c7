'use strict';
// authprobe zoo: "Ledgerly", a single-page app served by @hapi/hapi. The built front end
// (dist/: index.html and one hashed, minified bundle) is served by @hapi/inert; the bundle is
// the only place the API's routes are named (axios-style client with baseURL "/gateway/v2").
// The API authenticates with hapi-auth-jwt2 as its README sets it up; login tokens are signed
// with jsonwebtoken. The default variant keeps the hand-made mistakes (see truth.toml /
// README.md); --hardened is what a careful team ships. Usage:
//   node server.js --port PORT [--hardened] [--exit-with-stdin] [--access-log FILE]
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs } = require('node:util');
const Hapi = require('@hapi/hapi');
const Boom = require('@hapi/boom');
const Inert = require('@hapi/inert');
const HapiAuthJwt2 = require('hapi-auth-jwt2');
const jwt = require('jsonwebtoken');
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
const API = '/gateway/v2';
const DIST = path.join(__dirname, 'dist');

// ---------------------------------------------------------------- configuration
// Flawed: the key from jsonwebtoken's README (`jwt.sign({ foo: 'bar' }, 'shhhhh')`), and
// jwt.sign with no options: no exp, no aud, no iss. Hardened: a random key per start,
// 15-minute tokens bound to this API, each with a jti that logout revokes.
const JWT_SECRET = HARDENED ? crypto.randomBytes(32).toString('hex') : 'shhhhh';
const JWT_AUDIENCE = 'ledgerly-api';
const JWT_ISSUER = 'http://127.0.0.1/ledgerly';
const BCRYPT_COST = 8; // tutorials use 10; 8 keeps a scanner's login bursts quick
const FAILURES_ALLOWED = 5; // hardened: failed logins per minute per (address, username)
const FAILURE_WINDOW_MS = 60 * 1000;

// ---------------------------------------------------------------- data (in memory, fresh per start)
const users = [];
const projects = [];
for (const [id, username, password] of [[1, 'alice', 'alice-pass-1'], [2, 'bob', 'bob-pass-2']]) {
  users.push({ id, username, email: `${username}@example.com`, hash: bcrypt.hashSync(password, BCRYPT_COST) });
}
const seed = {
  alice: [['Kitchen renovation', 18500], ['Series A data room', 4200], ['Team offsite 2024', 9600]],
  bob: [['Warehouse move', 27300], ['Payroll migration', 3100], ['Booth at FOSDEM', 1800]],
};
for (const [owner, entries] of Object.entries(seed)) {
  for (const [name, budget] of entries) {
    projects.push({
      id: crypto.randomUUID(),
      name,
      description: `${name}: ${owner}'s private budget and notes.`,
      budget,
      status: 'active',
      owner,
    });
  }
}
const DUMMY_HASH = bcrypt.hashSync('not-a-password', BCRYPT_COST);
const revoked = new Set(); // hardened: jtis of logged-out tokens (until they expire)

// ---------------------------------------------------------------- server
const server = Hapi.server({
  host: '127.0.0.1',
  port: Number(opts.port),
  routes: {
    files: { relativeTo: DIST },
    // Hardened: hapi's own security headers on every route (nosniff, X-Frame-Options,
    // Referrer-Policy, HSTS). Flawed: hapi's default, none.
    security: HARDENED ? { hsts: true, xframe: 'deny', noSniff: true, referrer: 'no-referrer', xss: 'disabled' } : false,
  },
});

let accessLog = null;
if (opts['access-log']) accessLog = fs.openSync(opts['access-log'], 'a');
server.ext('onRequest', (request, h) => {
  if (accessLog !== null) fs.writeSync(accessLog, `${request.method.toUpperCase()} ${request.path}\n`);
  return h.continue;
});

// The single-page app's history fallback: a GET for a path that is not the API and not a
// file gets index.html (the client-side router takes over). API paths keep hapi's 404 JSON.
// Hardened: a Content-Security-Policy on every answer (the HTML is what needs it).
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
server.ext('onPreResponse', (request, h) => {
  let response = request.response;
  const notFound = response.isBoom && response.output.statusCode === 404;
  if (notFound && request.method === 'get' && !request.path.startsWith(`${API}/`)) {
    response = h.file('index.html');
  }
  if (HARDENED) {
    // hapi's `security` route option covers nosniff, frame and referrer headers (errors
    // included); a CSP it does not have, so it is added here, to errors as well.
    if (response.isBoom) response.output.headers['Content-Security-Policy'] = CSP;
    else response.header('Content-Security-Policy', CSP);
  }
  return response === request.response ? h.continue : response;
});

// ---------------------------------------------------------------- credentials
const failures = new Map();
const failureKey = (request, username) => `${request.info.remoteAddress}|${String(username || '').toLowerCase()}`;
function recentFailures(key) {
  const now = Date.now();
  const recent = (failures.get(key) || []).filter((t) => now - t < FAILURE_WINDOW_MS);
  failures.set(key, recent);
  return recent;
}

async function login(request, h) {
  const { username, password } = request.payload || {};
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw Boom.badRequest('username and password are required');
  }
  // Hardened: the sixth failure in a minute for this (socket address, username) is refused
  // with 429 + Retry-After; request.info.remoteAddress ignores X-Forwarded-For.
  const key = failureKey(request, username);
  if (HARDENED) {
    const recent = recentFailures(key);
    if (recent.length >= FAILURES_ALLOWED) {
      const error = Boom.tooManyRequests('too many failed login attempts, try again later');
      error.output.headers['Retry-After'] = String(Math.ceil((recent[0] + FAILURE_WINDOW_MS - Date.now()) / 1000));
      throw error;
    }
  }
  const user = users.find((u) => u.username === username);
  const ok = await bcrypt.compare(password, user ? user.hash : DUMMY_HASH);
  if (!user || !ok) {
    if (HARDENED) failures.set(key, [...recentFailures(key), Date.now()]);
    throw Boom.unauthorized('Invalid username or password');
  }
  const claims = { id: user.id, username: user.username };
  const token = HARDENED
    ? jwt.sign(claims, JWT_SECRET, {
        algorithm: 'HS256',
        expiresIn: '15m',
        audience: JWT_AUDIENCE,
        issuer: JWT_ISSUER,
        jwtid: crypto.randomUUID(),
      })
    : jwt.sign(claims, JWT_SECRET);
  return { token };
}

// hapi-auth-jwt2's `validate`, as in its README: the decoded token names a known user.
async function validate(decoded) {
  const user = users.find((u) => u.id === decoded.id);
  if (!user || (HARDENED && (!decoded.jti || revoked.has(decoded.jti)))) return { isValid: false };
  return { isValid: true, credentials: { user, jti: decoded.jti } };
}

const publicUser = (u) => ({ id: u.id, username: u.username, email: u.email });

async function start() {
  await server.register([Inert, HapiAuthJwt2]);
  server.auth.strategy('jwt', 'jwt', {
    key: JWT_SECRET,
    validate,
    // Flawed: the README's options, so the plugin's defaults hold: the token is also read
    // from `?token=` (urlKey) and from a `token` cookie. Hardened: the header only, with the
    // algorithm, audience and issuer pinned.
    ...(HARDENED
      ? {
          urlKey: false,
          cookieKey: false,
          payloadKey: false,
          tokenType: 'Bearer',
          verifyOptions: { algorithms: ['HS256'], audience: JWT_AUDIENCE, issuer: JWT_ISSUER },
        }
      : {}),
  });
  server.auth.default('jwt');

  server.route([
    { method: 'GET', path: '/', options: { auth: false }, handler: { file: 'index.html' } },
    {
      method: 'GET',
      path: '/{param*}',
      options: { auth: false },
      handler: { directory: { path: '.', redirectToSlash: false, index: false } },
    },
    { method: 'POST', path: `${API}/users/authenticate`, options: { auth: false }, handler: login },
    {
      method: 'GET',
      path: `${API}/users/current`,
      handler: (request) => publicUser(request.auth.credentials.user),
    },
    {
      // Flawed: "JWTs are stateless": logout just answers, the token lives on (it has no exp).
      // Hardened: the token's jti is revoked until the token would have expired anyway.
      method: 'POST',
      path: `${API}/users/logout`,
      handler: (request) => {
        if (HARDENED) revoked.add(request.auth.credentials.jti);
        return { message: 'Signed out' };
      },
    },
    {
      method: 'GET',
      path: `${API}/projects`,
      handler: (request) => ({
        projects: projects
          .filter((p) => p.owner === request.auth.credentials.user.username)
          .map(({ id, name, status, owner }) => ({ id, name, status, owner })),
      }),
    },
    {
      // Owner-scoped in both variants: another user's project is a 404, like a missing one.
      method: 'GET',
      path: `${API}/projects/{id}`,
      handler: (request) => {
        const project = projects.find(
          (p) => p.id === request.params.id && p.owner === request.auth.credentials.user.username,
        );
        if (!project) throw Boom.notFound('Project not found');
        return { project };
      },
    },
  ]);

  await server.start();
  process.stdout.write(`ready ${server.info.uri}\n`);
}

start().catch((err) => {
  process.stderr.write(`spa-bundle: ${err.message}\n`);
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
