// Element types of a tensor key, by the names engines use (PyTorch's, minus
// the "torch." prefix). Only the size matters to the store: it never does
// arithmetic on elements, it moves whole rows of bytes.

export const DTYPES = ['float32', 'float16', 'bfloat16', 'float8_e4m3', 'float8_e5m2', 'int8', 'uint8'] as const;
export type DtypeName = typeof DTYPES[number];

/** Bytes per element, indexed by dtype code (the position in DTYPES). */
export const DTYPE_SIZE = [4, 2, 2, 1, 1, 1, 1];

/** The code of a dtype name (any case), or -1. */
export function dtypeCode(name: string): number {
  return (DTYPES as readonly string[]).indexOf(name.toLowerCase());
}

export function dtypeName(code: number): DtypeName {
  return DTYPES[code];
}
