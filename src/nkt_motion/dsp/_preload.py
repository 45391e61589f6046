"""Importing this module readies the compiled filter and orientation loops (numba), once.

A process pool that forks its workers from a preloaded server (the batch's
forkserver) lists this module, so its workers start with the loops compiled or
loaded from numba's cache instead of each paying that (about half a second)
on its first session.
"""

from nkt_motion.dsp import _kernels, _orientation_kernels

_kernels._compiled()
_orientation_kernels._compiled()
