// The program version, shown by --version and recorded with every set.
export const VERSION = '0.1.0';
// 2: a directory listing may name its directory by where it was listed (DirRef).
export const PROTOCOL_VERSION = 2;
