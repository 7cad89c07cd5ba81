"""Op table entries: matmul (every rank combination, broadcast batch dims, strided inputs), mm,
bmm, dot."""
import numpy as np

import jitgrad as jg

from .spec import Case, OpSpec

SPECS = [
    OpSpec("matmul", jg.matmul, np.matmul, [
        Case([(3,), (3,)], name="1-D@1-D"),
        Case([(3,), (3, 4)], name="1-D@2-D"),
        Case([(2, 3), (3,)], name="2-D@1-D"),
        Case([(2, 3), (3, 4)], name="2-D@2-D"),
        Case([(2, 1, 3, 4), (5, 4, 2)], name="batch broadcast"),
        Case([(2, 3, 4), (4, 5)], name="batch@2-D"),
        Case([(3, 4), (2, 4, 5)], name="2-D@batch"),
        Case([(4,), (2, 4, 3)], name="1-D@batch"),
        Case([(2, 3, 4), (4,)], name="batch@1-D"),
        Case([(3, 4), (4, 2)], layout="transposed", name="transposed"),
        Case([(2, 3, 4), (4, 2)], layout="transposed", name="transposed batch"),
        Case([(2, 3), (3, 4)], layout="sliced", name="sliced"),
        Case([(3,), (3, 2)], layout="sliced", name="sliced 1-D"),
    ]),
    OpSpec("mm", jg.mm, np.matmul, [Case([(2, 3), (3, 4)]),
                                    Case([(3, 4), (4, 2)], layout="transposed")]),
    OpSpec("bmm", jg.bmm, np.matmul, [Case([(2, 3, 4), (2, 4, 2)]),
                                      Case([(2, 3, 4), (2, 4, 2)], layout="sliced")]),
    OpSpec("dot", jg.dot, np.dot, [Case([(4,), (4,)]), Case([(4,), (4,)], layout="sliced")]),
]
