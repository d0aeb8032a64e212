// placeholder so the library has a source until the query languages land
namespace ct::query {}
