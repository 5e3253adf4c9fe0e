// The lrtune program: the command line with lrtune's own kinds only.
#include "lrtune/lrtune.h"

int main(int argc, char** argv) { return lrtune::main(argc, argv); }
