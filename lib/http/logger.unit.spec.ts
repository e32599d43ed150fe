import t from 'tap';
import { redactUrl } from './logger.ts';

t.test('logged URLs carry no secret: query tokens, addresses, and a waiting room place token in the path', async (t) => {
  t.equal(redactUrl('/api/v1/users/verify-email?token=abc.def&x=1'), '/api/v1/users/verify-email?token=[redacted]&x=1');
  t.equal(redactUrl('/api/v1/admin/bookings?email=a%40b.c'), '/api/v1/admin/bookings?email=[redacted]');
  t.equal(redactUrl('/api/v1/queue/5b3c0c1e-1b2a-4c3d-8e4f-5a6b7c8d9e0f'), '/api/v1/queue/[redacted]');
  t.equal(redactUrl('/api/v1/queue/5b3c0c1e-1b2a-4c3d-8e4f-5a6b7c8d9e0f/?min_position=3'), '/api/v1/queue/[redacted]/?min_position=3');
  t.equal(redactUrl('/api/v1/concerts/5b3c0c1e-1b2a-4c3d-8e4f-5a6b7c8d9e0f/queue'), '/api/v1/concerts/5b3c0c1e-1b2a-4c3d-8e4f-5a6b7c8d9e0f/queue', 'the join names only the concert');
});
