import { tool } from "@langchain/core/tools";
import { Type, type Static } from "@sinclair/typebox";
import {
  create,
  isConstantNode,
  isFunctionNode,
  isOperatorNode,
  isParenthesisNode,
  isSymbolNode,
  parseDependencies,
  type MathNode,
} from "mathjs/number";
import { ToolInputError } from "./tool-input-error.js";

// A mathjs holding only its parser, from its numbers-only build (half the start-up work of the
// full one): nothing here can reach its evaluator, even by mistake.
// (Its types declare every *Dependencies map as possibly missing.)
if (!parseDependencies) throw new Error("mathjs no longer exports parseDependencies");
const { parse } = create(parseDependencies);

const CalculatorInput = Type.Object(
  {
    expression: Type.String({
      minLength: 1,
      maxLength: 1000,
      description: "Arithmetic, e.g. 12 * (3 + 4)",
    }),
  },
  { additionalProperties: false },
);

const BINARY: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  subtract: (a, b) => a - b,
  multiply: (a, b) => a * b,
  divide: (a, b) => {
    if (b === 0) throw new ToolInputError("Division by zero");
    return a / b;
  },
  mod: (a, b) => {
    if (b === 0) throw new ToolInputError("Modulo by zero");
    return a % b;
  },
  pow: (a, b) => a ** b,
};
const UNARY: Record<string, (a: number) => number> = { unaryMinus: (a) => -a, unaryPlus: (a) => a };
const FUNCTIONS: Record<string, (...args: number[]) => number> = {
  abs: Math.abs,
  sqrt: Math.sqrt,
  cbrt: Math.cbrt,
  exp: Math.exp,
  ln: Math.log,
  log: (x, base) => (base === undefined ? Math.log(x) : Math.log(x) / Math.log(base)),
  log10: Math.log10,
  log2: Math.log2,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  round: Math.round,
  floor: Math.floor,
  ceil: Math.ceil,
  min: Math.min,
  max: Math.max,
};
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };

/** Looks up only the table's own keys, so "constructor" or "__proto__" find nothing. */
function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * Evaluates arithmetic without eval: mathjs only parses, and this walker
 * accepts numbers, the operators above, allow-listed functions and two
 * constants. Anything else in the tree (variables, strings, assignments,
 * matrices, units) is refused, so no input can reach code or objects.
 */
export function calculate(expression: string): number {
  let tree: MathNode;
  try {
    tree = parse(expression);
  } catch (error) {
    throw new ToolInputError(`Cannot parse "${expression}": ${(error as Error).message}`);
  }
  const result = evaluate(tree);
  if (!Number.isFinite(result)) throw new ToolInputError(`"${expression}" has no finite result`);
  return result;
}

function evaluate(node: MathNode): number {
  if (isConstantNode(node)) {
    // Typed as a number, but a quoted string parses to a ConstantNode too.
    const value: unknown = node.value;
    if (typeof value !== "number")
      throw new ToolInputError(`Only numbers are allowed, not ${JSON.stringify(value)}`);
    return value;
  }
  if (isParenthesisNode(node)) return evaluate(node.content);
  if (isSymbolNode(node)) {
    const constant = own(CONSTANTS, node.name);
    if (constant === undefined) throw new ToolInputError(`Unknown name "${node.name}"`);
    return constant;
  }
  if (isOperatorNode(node)) {
    const [a, b] = node.args.map(evaluate);
    const unary = own(UNARY, node.fn);
    const binary = own(BINARY, node.fn);
    if (node.args.length === 1 && a !== undefined && unary) return unary(a);
    if (node.args.length === 2 && a !== undefined && b !== undefined && binary) return binary(a, b);
    throw new ToolInputError(`Operator "${node.op}" is not supported`);
  }
  if (isFunctionNode(node)) {
    // Typed as a name, but `(f)(2)` or `a.b(2)` call other nodes.
    const fn: MathNode = node.fn;
    const name = isSymbolNode(fn) ? fn.name : "";
    const implementation = own(FUNCTIONS, name);
    if (!implementation) throw new ToolInputError(`Unknown function "${name || fn.toString()}"`);
    return implementation(...node.args.map(evaluate));
  }
  throw new ToolInputError(`"${node.toString()}" is not arithmetic`);
}

export const calculatorTool = tool(
  (input: Static<typeof CalculatorInput>) => calculate(input.expression),
  {
    name: "calculator",
    description:
      "Evaluates an arithmetic expression with + - * / % ^, parentheses, decimals, pi, e and functions such as sqrt, abs, round, min, max, log, sin.",
    schema: CalculatorInput,
  },
);
