"""FastAPI's tutorial "OAuth2 with Password (and hashing), Bearer with JWT tokens", deployed.

The code keeps the tutorial's shape (PyJWT, pwdlib/Argon2, OAuth2PasswordBearer, the
DUMMY_HASH timing guard) with alice/bob instead of johndoe and owner-scoped items added.
ZOO_HARDENED=1 (set by serve.py --hardened, read once at import) switches to the variant a
careful team ships; without it this is the tutorial as written, published SECRET_KEY included.
"""

import os
import secrets
import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timedelta, timezone
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from jwt.exceptions import InvalidTokenError
from pwdlib import PasswordHash
from pydantic import BaseModel

HARDENED = os.environ.get("ZOO_HARDENED") == "1"

if HARDENED:
    SECRET_KEY = secrets.token_hex(32)  # per start, never in the source
    ISSUER, AUDIENCE = "fastapi-oauth2", "items-api"
else:
    # INTENTIONALLY VULNERABLE: the tutorial's key, published in the FastAPI docs
    # ("to get a string like this run: openssl rand -hex 32") and copied into real
    # deployments: anyone can look it up and sign tokens for any user (JWT003).
    SECRET_KEY = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7"
ALGORITHM = "HS256"
ACCESS_TOKEN_EXPIRE_MINUTES = 30


password_hash = PasswordHash.recommended()  # Argon2id, as the tutorial
# Verified when the user does not exist, so that failure costs the same time.
DUMMY_HASH = password_hash.hash("dummypassword")

fake_users_db = {
    "alice": {
        "username": "alice",
        "full_name": "Alice Example",
        "email": "alice@example.com",
        "hashed_password": password_hash.hash("alice-pass-1"),
        "disabled": False,
    },
    "bob": {
        "username": "bob",
        "full_name": "Bob Example",
        "email": "bob@example.com",
        "hashed_password": password_hash.hash("bob-pass-2"),
        "disabled": False,
    },
}

# Items with random ids (not enumerable), each owned by one user.
fake_items_db = {}
for _owner, _titles in {"alice": ["Foo", "Bar"], "bob": ["Baz", "Qux"]}.items():
    for _title in _titles:
        _id = secrets.token_hex(8)
        fake_items_db[_id] = {"item_id": _id, "title": _title, "owner": _owner}

revoked_jtis: set[str] = set()  # hardened: tokens of POST /logout


class Token(BaseModel):
    access_token: str
    token_type: str


class TokenData(BaseModel):
    username: str | None = None


class User(BaseModel):
    username: str
    email: str | None = None
    full_name: str | None = None
    disabled: bool | None = None


class UserInDB(User):
    hashed_password: str


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

if HARDENED:
    # /docs and /redoc are HTML pages that load Swagger UI from a CDN: off in production
    # (the OpenAPI schema stays at /openapi.json).
    app = FastAPI(docs_url=None, redoc_url=None)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
        response.headers["Cache-Control"] = "no-store"
        return response
else:
    app = FastAPI()


class FailureLimiter:
    """At most `limit` failures per key within `window` seconds; then the key is blocked."""

    def __init__(self, limit: int = 5, window: float = 60.0):
        self.limit, self.window = limit, window
        self.failures: dict[object, deque[float]] = defaultdict(deque)
        self.lock = threading.Lock()

    def retry_after(self, key) -> int:
        with self.lock:
            stamps = self.failures[key]
            now = time.monotonic()
            while stamps and stamps[0] <= now - self.window:
                stamps.popleft()
            if len(stamps) < self.limit:
                return 0
            return max(1, int(stamps[0] + self.window - now + 1))

    def fail(self, key) -> None:
        with self.lock:
            self.failures[key].append(time.monotonic())


login_limiter = FailureLimiter()


def verify_password(plain_password, hashed_password):
    return password_hash.verify(plain_password, hashed_password)


def get_password_hash(password):
    return password_hash.hash(password)


def get_user(db, username: str):
    if username in db:
        user_dict = db[username]
        return UserInDB(**user_dict)


def authenticate_user(fake_db, username: str, password: str):
    user = get_user(fake_db, username)
    if not user:
        verify_password(password, DUMMY_HASH)
        return False
    if not verify_password(password, user.hashed_password):
        return False
    return user


def create_access_token(data: dict, expires_delta: timedelta | None = None):
    to_encode = data.copy()
    if expires_delta:
        expire = datetime.now(timezone.utc) + expires_delta
    else:
        expire = datetime.now(timezone.utc) + timedelta(minutes=15)
    to_encode.update({"exp": expire})
    if HARDENED:
        # Bound to this API (aud) and issuer (iss); jti makes each token revocable.
        to_encode.update(
            {"iss": ISSUER, "aud": AUDIENCE, "iat": datetime.now(timezone.utc), "jti": secrets.token_urlsafe(16)}
        )
    encoded_jwt = jwt.encode(to_encode, SECRET_KEY, algorithm=ALGORITHM)
    return encoded_jwt


def decode_access_token(token: str) -> dict:
    if HARDENED:
        payload = jwt.decode(
            token,
            SECRET_KEY,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "jti", "sub"]},
        )
        if payload["jti"] in revoked_jtis:
            raise InvalidTokenError("revoked")
        return payload
    return jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])


async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)]):
    credentials_exception = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Could not validate credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        payload = decode_access_token(token)
        username = payload.get("sub")
        if username is None:
            raise credentials_exception
        token_data = TokenData(username=username)
    except InvalidTokenError:
        raise credentials_exception
    user = get_user(fake_users_db, username=token_data.username)
    if user is None:
        raise credentials_exception
    return user


async def get_current_active_user(
    current_user: Annotated[User, Depends(get_current_user)],
):
    if current_user.disabled:
        raise HTTPException(status_code=400, detail="Inactive user")
    return current_user


@app.post("/token")
async def login_for_access_token(
    form_data: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
) -> Token:
    # Keyed on the socket's address, never on X-Forwarded-For.
    key = (form_data.username.lower(), request.client.host if request.client else "")
    if HARDENED:
        wait = login_limiter.retry_after(key)
        if wait:
            raise HTTPException(
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                detail="Too many failed logins, try again later",
                headers={"Retry-After": str(wait)},
            )
    user = authenticate_user(fake_users_db, form_data.username, form_data.password)
    if not user:
        if HARDENED:
            login_limiter.fail(key)
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    access_token_expires = timedelta(minutes=ACCESS_TOKEN_EXPIRE_MINUTES)
    access_token = create_access_token(data={"sub": user.username}, expires_delta=access_token_expires)
    return Token(access_token=access_token, token_type="bearer")


@app.get("/users/me/")
async def read_users_me(
    current_user: Annotated[User, Depends(get_current_active_user)],
) -> User:
    return current_user


@app.get("/users/me/items/")
async def read_own_items(
    current_user: Annotated[User, Depends(get_current_active_user)],
):
    return [item for item in fake_items_db.values() if item["owner"] == current_user.username]


@app.get("/items/{item_id}")
async def read_item(
    item_id: str,
    current_user: Annotated[User, Depends(get_current_active_user)],
):
    item = fake_items_db.get(item_id)
    if item is None or item["owner"] != current_user.username:  # 404 either way: no existence oracle
        raise HTTPException(status_code=404, detail="Item not found")
    return item


if HARDENED:

    @app.post("/logout", status_code=204)
    async def logout(token: Annotated[str, Depends(oauth2_scheme)], _user: Annotated[User, Depends(get_current_user)]):
        # The tutorial has no logout; a careful deployment revokes the token's jti.
        revoked_jtis.add(decode_access_token(token)["jti"])
