/** Passwords: argon2id, and the older system's bcrypt hashes until their next sign-in. */
import t from 'tap';
import { isBcrypt, PasswordHasher } from './passwords.ts';

// bcrypt (cost 10) of "alice-old-secret-1", as the older Go services wrote it ($2a$).
const OLD = '$2a$10$ilGxcW.VDoo6WbcHeLpTFu6XA49cY3MGQDv7ZgHNBMBfupIl26ID2';
const hasher = new PasswordHasher({ memoryKib: 8192, iterations: 1, parallelism: 1 });

t.test('a bcrypt hash from the older system verifies its password and no other', async (t) => {
  t.equal(await hasher.verify(OLD, 'alice-old-secret-1'), true);
  t.equal(await hasher.verify(OLD, 'alice-old-secret-2'), false);
  t.equal(await hasher.verify(OLD.replace('$2a$', '$2b$'), 'alice-old-secret-1'), true, '$2b$ is the same algorithm');
});

t.test('a bcrypt hash asks to be re-hashed (with argon2id) at the next sign-in; a current argon2id hash does not', async (t) => {
  t.equal(hasher.needsRehash(OLD), true);
  const fresh = await hasher.hash('alice-old-secret-1');
  t.match(fresh, /^\$argon2id\$/);
  t.equal(hasher.needsRehash(fresh), false);
  t.equal(await hasher.verify(fresh, 'alice-old-secret-1'), true);
});

t.test('only well-formed bcrypt hashes are taken for bcrypt', async (t) => {
  t.equal(isBcrypt(OLD), true);
  t.equal(isBcrypt('$2a$10$short'), false);
  t.equal(isBcrypt('$argon2id$v=19$m=8192,t=1,p=1$abc$def'), false);
  t.equal(await hasher.verify('$2a$10$short', 'anything'), false, 'a malformed hash matches nothing');
});
