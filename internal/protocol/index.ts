export { checkBody, decodeBody, encodeBody, MAX_DEPTH, type Message } from './codec.ts';
export {
  Connection, DEFAULT_LIMITS, MIN_PROTOCOL_VERSION, PROGRAM,
  type ConnectionOptions, type Hello, type Limits, type LogFn, type RequestContext, type RequestHandler,
} from './connection.ts';
export { ConnectionError, errorFromWire, errorToWire, oneLine, ProtocolError, type WireError } from './errors.ts';
export { COMPRESSED, DEFAULT_MAX_FRAME, encodeFrame, FrameDecoder, HEADER, LENGTH_MASK, type Frame } from './frame.ts';
export { BANNER, BANNER_TLS, readBanner, writeBanner } from './banner.ts';
