// Automatic set names (Tardis §6.1): the first format whose name is still free wins and gives
// the set its priority and retention.
import { strftime } from './strftime.ts';

export interface NamingPolicy {
  formats: string[];
  priorities: number[];
  keepDays: number[];
  forceFull: boolean[];
}

export const DEFAULT_NAMING: NamingPolicy = {
  formats: ['Monthly-%Y-%m', 'Weekly-%Y-%U', 'Daily-%Y-%m-%d'],
  priorities: [40, 30, 20],
  keepDays: [0, 180, 30],
  forceFull: [false, false, false],
};

export interface AutoName {
  name: string;
  priority: number;
  keepDays: number;
  full: boolean;
}

export function autoName(when: Date, taken: (name: string) => boolean, policy: NamingPolicy = DEFAULT_NAMING): AutoName {
  for (let i = 0; i < policy.formats.length; i++) {
    const name = strftime(policy.formats[i]!, when);
    if (!taken(name)) {
      return { name, priority: policy.priorities[i] ?? 0, keepDays: policy.keepDays[i] ?? 0, full: policy.forceFull[i] ?? false };
    }
  }
  let name = strftime('Backup_%Y-%m-%d_%H:%M:%S', when);
  for (let n = 2; taken(name); n++) name = `${strftime('Backup_%Y-%m-%d_%H:%M:%S', when)}-${n}`;
  return { name, priority: 0, keepDays: 0, full: false };
}
