// The program version, shown by --version and recorded with every set.
export const VERSION = '0.1.0';
export const PROTOCOL_VERSION = 1;
