import { describe, expect, it } from 'vitest';
import * as rv from '@roomgraph/room-versions';
describe('smoke', () => { it('loads', () => { expect(typeof rv).toBe('object'); }); });
