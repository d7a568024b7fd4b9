"""Prints as JSON what a DAG file runs, read from its source without importing Airflow: the module-level lists
named *_ARGS (evaluated from constants, names defined before them, lists and string +), and the task order from
its `a >> b` expressions."""
import ast
import json
import sys

tree = ast.parse(open(sys.argv[1], encoding="utf-8").read(), sys.argv[1])
SIMPLE = (ast.Expression, ast.Constant, ast.Name, ast.Load, ast.List, ast.Tuple, ast.BinOp, ast.Add)
env = {}
for node in tree.body:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        expr = ast.Expression(node.value)
        nodes = list(ast.walk(expr))
        if all(isinstance(n, SIMPLE) for n in nodes) and all(n.id in env for n in nodes if isinstance(n, ast.Name)):
            env[node.targets[0].id] = eval(compile(expr, sys.argv[1], "eval"), {"__builtins__": {}}, dict(env))
order = [[n.left.id, n.right.id] for n in ast.walk(tree)
         if isinstance(n, ast.BinOp) and isinstance(n.op, ast.RShift)
         and isinstance(n.left, ast.Name) and isinstance(n.right, ast.Name)]
print(json.dumps({"args": {k: v for k, v in env.items() if k.endswith("_ARGS")}, "order": order}))
