import { Allow } from 'class-validator';

/** The refusal messages of the two identifier patterns, for class-validator. */
export const clientId = (field: string) => ({ message: `${field} must be 1-64 characters of [A-Za-z0-9_-]` });
export const entityId = (field: string) => ({
  message: `${field} must be 1-64 characters of [A-Za-z0-9_.:-]`,
});

/** Every client frame: its `type` picks its class. */
export abstract class Frame {
  @Allow()
  type: string;
}
