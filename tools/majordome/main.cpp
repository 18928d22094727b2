#include "majordome/cli/main.hpp"

int main(int argc, char** argv) { return majordome::cli::main(argc, argv); }
