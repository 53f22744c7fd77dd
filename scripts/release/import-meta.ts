// Injected into the release bundle as `import.meta` (CommonJS has none): its url is the bundle's
// own file, which the worker pools (sealing, restore) start as their threads.
import { bundleUrl } from './native.ts';

export const __tardisImportMeta = {
  get url(): string {
    return bundleUrl();
  },
};
