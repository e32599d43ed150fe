/**
 * Read-your-writes for browsers: the command API sets this cookie to the position of a
 * cookie-authenticated client's last write, and the query API waits for that position as if
 * the client had sent X-Min-Position. One name, shared by both.
 */
export const MIN_POSITION_COOKIE = 'min_position';
