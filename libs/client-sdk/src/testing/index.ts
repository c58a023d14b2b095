// Test doubles for apps and for the SDK's own specs (not part of the browser bundle).
export { FakeClock, flush } from './fake-clock';
export { FakeNetwork, FakeSocket } from './fake-socket';
